"""Writes the interchange fixtures with other implementations (safetensors' own numpy
writer, NumPy's np.save), so Lopper's readers are tested against files it did not write.
Run: python3 make_fixtures.py (needs numpy and safetensors from PyPI)."""
import numpy as np
from safetensors.numpy import save_file

weight = np.arange(12, dtype=np.float32).reshape(3, 4) / 8 - 0.5
save_file({
    "fc.weight": weight,
    "fc.bias": np.array([0.25, -1.5, 3.0], dtype=np.float32),
    "bn.running_var": np.array([1.0, 2.0], dtype=np.float64),
    "bn.num_batches_tracked": np.array(7, dtype=np.int64),
    "mask": np.array([[True, False], [False, True]]),
    "half": np.array([1.5, -0.25, 65504.0], dtype=np.float16),
}, "reference.safetensors", metadata={"written_by": "safetensors.numpy"})
np.save("reference.npy", weight.astype(np.float64))
np.save("reference_f32.npy", np.arange(6, dtype=np.float32).reshape(1, 2, 3))
