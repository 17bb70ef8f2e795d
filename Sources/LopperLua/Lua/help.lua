-- help(): documentation at the prompt and in scripts, run after cells.lua with (lp).
-- The entries themselves are read natively (Docs/*.md and the `---` comments here and in
-- prelude.lua and cells.lua); this file finds what a value is called.
local lp = ...
local doc, doc_name, doc_search = lp._doc, lp._doc_name, lp._doc_search
local doc_methods, doc_members, doc_areas = lp._doc_methods, lp._doc_members, lp._doc_areas
local getinfo = debug.getinfo

-- Lua-written functions and the tables of lp, by value: walked once, when first asked.
local names

local function walk(t, prefix, depth)
  for k, v in pairs(t) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then
      local name = prefix .. "." .. k
      if (type(v) == "function" or type(v) == "table") and not names[v] then
        names[v] = name
        if type(v) == "table" and depth < 2 then walk(v, name, depth + 1) end
      end
    end
  end
end

-- The documented name of a value: bindings know theirs; Lua functions are looked up in lp.
local function name_of(v)
  if type(v) == "function" then
    local n = doc_name(v)
    if n then return n end
  end
  if not names then
    names = {[lp] = "lp"}
    walk(lp, "lp", 0)
  end
  return names[v]
end

-- The comment lines just above line `line` of file `path`, or nil.
local function comment_above(path, line)
  local ok, f = pcall(io.open, path)
  if not ok or not f then return nil end
  local lines, k = {}, 0
  for l in f:lines() do
    k = k + 1
    if k >= line then break end
    if l:match("^%s*%-%-") then lines[#lines + 1] = l:gsub("^%s*%-%-+ ?", "") else lines = {} end
  end
  f:close()
  return #lines > 0 and table.concat(lines, "\n") or nil
end

-- A function of the script's own: where it is defined and the comment above it.
local function user_function(f)
  local info = getinfo(f, "S")
  if info.what == "C" then return "a C function (no documentation)" end
  local where = info.short_src .. ":" .. info.linedefined
  local text = info.source:sub(1, 1) == "@" and comment_above(info.source:sub(2), info.linedefined)
  return "function defined at " .. where .. (text and ("\n\n" .. text) or "\n(no comment above it)")
end

local overview = [[
help(x) documents any part of Lopper:
  help(lp.prune.prune)   a function or method: signature, options, example
  help("rewind")         a search of names and text, and of the recipes
  help(lp.prune)         a table of lp: its functions
  help(net)              a tensor, module, optimizer, …: its methods
At the prompt, ?word is help("word"). The reference: docs/reference.md.

Areas:
]]

-- The text help(x) prints.
local function text_of(x)
  if x == nil then return overview .. doc_areas() end
  if type(x) == "string" then
    local full = doc(x)
    if full then return full end
    local entries, recipes, count = doc_search(x)
    if count == 1 and not recipes then return entries end
    if not entries and not recipes then
      return string.format("help: nothing matches '%s' (help() lists the areas)", x)
    end
    local out = {}
    if entries then
      out[#out + 1] = count == 1 and ("One entry matches '" .. x .. "':\n\n" .. entries)
                      or string.format("%d entries match '%s':\n%s", count, x, entries)
    end
    if recipes then out[#out + 1] = "Recipes:\n" .. recipes end
    out[#out + 1] = "help(\"name\") shows one in full."
    return table.concat(out, "\n")
  end
  local name = name_of(x)
  if name then
    local full = doc(name)
    if full then return full end
    local members = doc_members(name)
    if members then return name .. ":\n" .. members end
  end
  local mt = getmetatable(x)
  local kind = type(mt) == "table" and type(rawget(mt, "__name")) == "string" and rawget(mt, "__name"):match("^lopper%.(.+)")
  if kind == "LuaModule" then kind = "Module" end
  if kind then
    local methods = doc_methods(kind)
    if methods then return "a " .. kind .. "; its methods (help(x.name) for one):\n" .. methods end
  end
  if type(x) == "function" then return user_function(x) end
  return string.format("help: a %s, with no documentation (help() lists what has some)", type(x))
end

--- @area help
--- help(x)
-- Prints the documentation of `x`. A function or method gives its signature, what it
-- does, its options with their defaults and an example; a string is looked up as a name
-- (`"lp.prune.score"`) or else searched for in the names and texts of every entry and in
-- the recipes' headers; a table of `lp` lists its functions; a tensor, module, optimizer
-- or other Lopper value lists its methods; a function of your own script shows where it
-- is defined and the comment above it. `help()` lists the areas. At the prompt, `?word`
-- is `help("word")`.
-- Also: lp.help
-- ```lua
-- help(lp.prune.prune)
-- help("rewind")
-- help(lp.zeros(2))
-- ```
function help(x)
  print(text_of(x))
end

--- lp.help_text(x) -> string
-- The text `help(x)` prints, as a string.
-- ```lua
-- assert(lp.help_text(lp.zeros):find("lp.zeros", 1, true))
-- ```
function lp.help_text(x)
  return text_of(x)
end

lp.help = help

-- `lopper help WORDS`: a path of lp (`lp.train`, `lp.prune`) is documented as the value it
-- names, so a table lists its functions; anything else is help("WORDS").
function lp._help_topic(words)
  local v = words:match("^lp[%w_.]*$") and lp or nil
  for part in words:gmatch("%.([%w_]+)") do
    v = type(v) == "table" and rawget(v, part) or nil
  end
  help(v ~= nil and v or words)
end
