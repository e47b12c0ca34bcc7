-- Latency of `aims lsp` as Neovim sees it (run by test_timing.py):
-- Neovim (0.7 or later, headless) opens the policy of AIMS_TIMING_ROOT,
-- then changes one digit AIMS_TIMING_EDITS times. Each sample is two
-- times from the buffer change: to the moment Neovim hands the
-- `publishDiagnostics` of that version to its handler (sent, transported
-- and decoded), and to the end of Neovim's own handling of it (converted
-- and stored with `vim.diagnostic`). The samples go to AIMS_TIMING_OUT,
-- one edit per line, in milliseconds.
local root = os.getenv("AIMS_TIMING_ROOT")
local edits = tonumber(os.getenv("AIMS_TIMING_EDITS") or "30")
local line, col = tonumber(os.getenv("AIMS_TIMING_LINE")), tonumber(os.getenv("AIMS_TIMING_COLUMN"))

vim.cmd("edit " .. vim.fn.fnameescape(root .. "/policy/policy.aims"))
local buf = vim.api.nvim_get_current_buf()
local uri = vim.uri_from_bufnr(buf)
local published, arrived, handled = nil, nil, nil
local default = vim.lsp.handlers["textDocument/publishDiagnostics"]

local client = vim.lsp.start_client({
  name = "aims",
  cmd = { os.getenv("AIMS_BIN"), "lsp" },
  root_dir = root,
  flags = { debounce_text_changes = 0 },
  handlers = {
    ["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
      local at = vim.loop.hrtime()
      default(err, result, ctx, config)
      if result.uri == uri then
        published, arrived, handled = result.version, at, vim.loop.hrtime()
      end
    end,
  },
})
vim.lsp.buf_attach_client(buf, client)

local function fail(message)
  io.stderr:write(message .. "\n")
  vim.cmd("cquit 1")
end

if not vim.wait(120000, function() return published ~= nil end, 5) then
  fail("no diagnostics after opening")
end
vim.wait(500, function() return false end, 50)

local original = vim.api.nvim_buf_get_text(buf, line, col, line, col + 1, {})[1]
local current = original
local samples = {}
for _ = 1, edits do
  current = (current == original) and "2" or original
  local start = vim.loop.hrtime()
  vim.api.nvim_buf_set_text(buf, line, col, line, col + 1, { current })
  local version = vim.lsp.util.buf_versions[buf]
  if not vim.wait(30000, function() return published == version end, 1) then
    fail("no diagnostics for version " .. tostring(version))
  end
  table.insert(samples, string.format("%.3f %.3f", (arrived - start) / 1e6, (handled - start) / 1e6))
end

local out = io.open(os.getenv("AIMS_TIMING_OUT"), "w")
out:write(table.concat(samples, "\n") .. "\n")
out:close()
vim.lsp.stop_client(client, true)
vim.cmd("qall!")
