-- lopper run --sandbox: run after the preludes with (check, lp); replaces the globals a
-- recipe one did not write must not have. check(path, mode, function) raises unless the
-- file policy allows the access (FilePolicy in LopperNN).
local check, lp = ...
local function refuse(name, rule)
  return function() error(string.format("%s: sandbox: %s", name, rule), 2) end
end
local no_programs = "running other programs is not allowed"
os.execute = refuse("os.execute", no_programs)
io.popen = refuse("io.popen", no_programs)
os.exit = refuse("os.exit", "ending the host is not allowed (return from the script, or call error)")
os.tmpname = refuse("os.tmpname", "temporary files outside the run folder are not allowed")
os.setlocale = refuse("os.setlocale", "changing the process locale is not allowed")
package.loadlib = refuse("package.loadlib", "loading native code is not allowed")
package.cpath = ""
package.searchers[3], package.searchers[4] = nil, nil
package.preload.debug, package.loaded.debug, debug = nil, nil, nil

-- The run's own start and report rendering write with Lopper's trusted file functions:
-- only into folders the policy allows (the host's own call passes; a script's into /etc does not).
local raw_start, raw_render = lp._start_run, lp._render_report
function lp._start_run(info)
  check(type(info) == "table" and tostring(info.dir) .. "/config.json" or "?", "w", "_start_run")
  return raw_start(info)
end
function lp._render_report(dir)
  check(tostring(dir) .. "/report.html", "w", "_render_report")
  return raw_render(dir)
end

local raw_open, raw_lines, raw_input, raw_output = io.open, io.lines, io.input, io.output
local raw_remove, raw_rename, raw_loadfile = os.remove, os.rename, loadfile
function io.open(path, mode)
  if type(path) == "string" then check(path, type(mode) == "string" and mode or "r", "io.open") end
  return raw_open(path, mode)
end
function io.lines(path, ...)
  if type(path) == "string" then check(path, "r", "io.lines") end
  return raw_lines(path, ...)
end
function io.input(file)
  if type(file) == "string" then check(file, "r", "io.input") end
  return raw_input(file)
end
function io.output(file)
  if type(file) == "string" then check(file, "w", "io.output") end
  return raw_output(file)
end
function os.remove(path)
  check(tostring(path), "w", "os.remove")
  return raw_remove(path)
end
function os.rename(from, to)
  check(tostring(from), "w", "os.rename")
  check(tostring(to), "w", "os.rename")
  return raw_rename(from, to)
end
function loadfile(path, ...)
  if path == nil then error("loadfile: sandbox: reading a chunk from standard input is not allowed", 2) end
  check(tostring(path), "r", "loadfile")
  return raw_loadfile(path, ...)
end
