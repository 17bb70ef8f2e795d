#!/usr/bin/env python3
"""PyTorch CPU on the same work as `Scripts/bench --cifar`, for the side-by-side figures in
the README. PyTorch does not come with Lopper: run it with your own, e.g.
    python3 Scripts/bench-pytorch.py 2        # 2 threads (the machine's cores)
Models built as Lopper's zoo builds them (OpenLTH's CIFAR ResNet, VGG-BN with global
average pooling, Frankle & Carbin's Conv-6); random inputs, as in the benchmark."""
import sys, time, torch, torch.nn as nn
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
models = sys.argv[2].split(",") if len(sys.argv) > 2 else ["resnet20", "resnet56", "vgg11", "vgg16", "conv6"]
class Block(nn.Module):
    def __init__(s, i, o, stride):
        super().__init__()
        s.conv1 = nn.Conv2d(i, o, 3, stride, 1, bias=False); s.bn1 = nn.BatchNorm2d(o)
        s.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); s.bn2 = nn.BatchNorm2d(o)
        s.shortcut = nn.Sequential(nn.Conv2d(i, o, 1, stride, bias=False), nn.BatchNorm2d(o)) if stride != 1 or i != o else nn.Sequential()
    def forward(s, x):
        y = torch.relu(s.bn1(s.conv1(x))); y = s.bn2(s.conv2(y)); return torch.relu(y + s.shortcut(x))
def resnet(depth):
    n = (depth - 2) // 6; layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]; c = 16
    for st in range(3):
        w = 16 << st
        for b in range(n): layers.append(Block(c, w, 2 if st > 0 and b == 0 else 1)); c = w
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))
plans = {11: [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0], 16: [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]}
def vgg(d):
    layers, c = [], 3
    for v in plans[d]:
        if v == 0: layers.append(nn.MaxPool2d(2)); continue
        layers += [nn.Conv2d(c, v, 3, 1, 1, bias=False), nn.BatchNorm2d(v), nn.ReLU()]; c = v
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))
def conv6():
    layers, c = [], 3
    for w in (64, 128, 256):
        for _ in range(2): layers += [nn.Conv2d(c, w, 3, 1, 1), nn.ReLU()]; c = w
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 16, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
build = {"conv6": conv6, "resnet20": lambda: resnet(20), "resnet56": lambda: resnet(56), "vgg11": lambda: vgg(11), "vgg16": lambda: vgg(16)}
for name in models:
    torch.manual_seed(1); net = build[name]()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(128, 3, 32, 32); y = torch.randint(0, 10, (128,))
    def step():
        opt.zero_grad(); loss = nn.functional.cross_entropy(net(x), y); loss.backward(); opt.step()
    for _ in range(2): step()
    best = 0
    for r in range(2):
        t = time.perf_counter()
        for _ in range(8): step()
        best = max(best, 8 * 128 / (time.perf_counter() - t))
    print(f"{name} b128 train: {best:.0f} samples/s")
    net.eval()
    with torch.no_grad():
        for b in (64, 1):
            xb = torch.randn(b, 3, 32, 32); net(xb); t = 1e9
            for r in range(5):
                t0 = time.perf_counter(); net(xb); t = min(t, time.perf_counter() - t0)
            print(f"{name} inference b{b}: {t*1e3:.2f} ms")
