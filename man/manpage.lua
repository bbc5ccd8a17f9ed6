-- man/manpage.lua - pandoc Lua filter that turns one of hvkvp's markdown
-- documents into a man page (pandoc -t man): the document's own title (its
-- first level-1 heading) goes, the other headings move up one level (## is
-- a section, .SH), a NAME section ("name \- description")
-- comes first, text before the first section becomes DESCRIPTION, section
-- names are upper-cased, code spans naming another documented file become
-- man page references ("collectd-plugin/hyperv_kvp.md" ->
-- collectd-hyperv_kvp(5)), a SEE ALSO section lists the related pages,
-- and text is left-justified.
-- Metadata (pandoc -M): manname, mandescription, manref (repeatable,
-- "path=page(section)"), seealso (repeatable, "page(section)").

local function list(v)
  if v == nil then
    return {}
  end
  if type(v) == "table" and v.t ~= "MetaInlines" and v.t ~= "MetaString" and #v > 0 then
    local out = {}
    for _, x in ipairs(v) do
      table.insert(out, pandoc.utils.stringify(x))
    end
    return out
  end
  return { pandoc.utils.stringify(v) }
end

local function ref_inlines(ref)
  local page, sect = ref:match("^(.-)(%(%w+%))$")
  if not page then
    return { pandoc.Str(ref) }
  end
  return { pandoc.Strong({ pandoc.Str(page) }), pandoc.Str(sect) }
end

function Pandoc(doc)
  local meta = doc.meta
  local name = pandoc.utils.stringify(meta.manname or "")
  local desc = pandoc.utils.stringify(meta.mandescription or "")
  if name == "" or desc == "" then
    error("manpage.lua: set -M manname=... and -M mandescription=...")
  end
  local refs = {}
  for _, r in ipairs(list(meta.manref)) do
    local path, ref = r:match("^(.-)=(.+)$")
    if path then
      refs[path] = ref
    end
  end

  local body = pandoc.List()
  local first_section = true
  local title_seen = false
  for _, b in ipairs(doc.blocks) do
    if b.t == "Header" and b.level == 1 and not title_seen then
      title_seen = true
      goto continue
    end
    if b.t == "Header" then
      b.level = math.max(1, b.level - 1)
    end
    if b.t == "Header" and b.level == 1 then
      first_section = false
      body:insert(pandoc.walk_block(b, {
        Str = function(s)
          return pandoc.Str(s.text:upper())
        end,
      }))
    else
      if first_section then
        body:insert(pandoc.Header(1, { pandoc.Str("DESCRIPTION") }))
        first_section = false
      end
      body:insert(b)
    end
    ::continue::
  end

  local out = pandoc.List({
    -- Left-justified text: the narrow table columns cannot be adjusted to
    -- both margins (groff would warn "cannot adjust line").
    pandoc.RawBlock("man", ".ad l"),
    pandoc.Header(1, { pandoc.Str("NAME") }),
    pandoc.Para({ pandoc.Str(name), pandoc.Space(), pandoc.Str("-"), pandoc.Space(), pandoc.Str(desc) }),
  })
  out:extend(body)
  local see = list(meta.seealso)
  if #see > 0 then
    local inl = pandoc.List()
    for i, ref in ipairs(see) do
      if i > 1 then
        inl:insert(pandoc.Str(","))
        inl:insert(pandoc.Space())
      end
      inl:extend(ref_inlines(ref))
    end
    out:insert(pandoc.Header(1, { pandoc.Str("SEE ALSO") }))
    out:insert(pandoc.Para(inl))
  end

  doc.blocks = out
  doc = pandoc.walk_block(pandoc.Div(doc.blocks), {
    -- pandoc lays relative column widths out over 70 ens; with the
    -- paragraph indent and the column gaps that is wider than an
    -- 80-column terminal: keep tables within 60 ens.
    -- A long path in a narrow column may break after each "/" (\:).
    Table = function(t)
      for i, cs in ipairs(t.colspecs) do
        if type(cs[2]) == "number" then
          t.colspecs[i] = { cs[1], cs[2] * 60 / 70 }
        end
      end
      return pandoc.walk_block(t, {
        Str = function(s)
          if #s.text <= 10 or not s.text:find("/") then
            return nil
          end
          local parts = pandoc.List()
          for piece, slash in s.text:gmatch("([^/]*)(/?)") do
            if piece ~= "" then
              parts:insert(pandoc.Str(piece))
            end
            if slash ~= "" then
              parts:insert(pandoc.Str("/"))
              parts:insert(pandoc.RawInline("man", "\\:"))
            end
          end
          return parts
        end,
      })
    end,
    Code = function(c)
      local ref = refs[c.text]
      if ref then
        return ref_inlines(ref)
      end
    end,
  })
  return pandoc.Pandoc(doc.content, meta)
end
