"""Latency of the real `aims lsp` binary on a 10,000-line policy, as seen by
a real client (pytest-lsp with Neovim's captured capabilities): median time
from a `didChange` to the `publishDiagnostics` of that version, of a
formatting request and of a references request.

The same edits are then made by Neovim (headless, when `nvim` is on the
PATH; `nvim_timing.lua`): from the buffer change to Neovim receiving the
diagnostics of that version (decoded, handed to its handler), and to the
end of Neovim's own handling of them.

The numbers are recorded, never asserted (wall-clock time depends on the
machine): the tests print them and write them as JSON to
`$AIMS_LSP_TIMING_OUT` (default `target/lsp-timing.json`; Neovim's beside
it, `-neovim.json`). They run only when asked for:

    AIMS_LSP_TIMING=1 lsp/tests/e2e/run.sh test_timing.py -s

The project is the one of the criterion bench `lsp/benches/did_change.rs`
(the same generator, written again here): ~910 controls over 256 systems,
one control in ten failing (`AIMS_LSP_TIMING_FAILING_EVERY=1`: every
control failing, ~910 diagnostics); each edit changes one digit of control
501's `let`, which changes how many systems it fails for.
"""

import json
import os
import pathlib
import shutil
import statistics
import subprocess
import time

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import AIMS, REPOSITORY, make_client, wait_for_version

pytestmark = pytest.mark.skipif(
    os.environ.get("AIMS_LSP_TIMING") != "1", reason="timing runs only with AIMS_LSP_TIMING=1"
)

EDITS = int(os.environ.get("AIMS_LSP_TIMING_EDITS", "30"))
FAILING_EVERY = int(os.environ.get("AIMS_LSP_TIMING_FAILING_EVERY", "10"))


def policy(failing_every: int) -> str:
    """About 10,000 lines: as `policy` in lsp/benches/did_change.rs."""
    parts = ["/// A system of the inventory.\nentity System {\n  id: Text key\n  tier: Int\n  owner: Text?\n}\n\n"]
    lines = 7
    i = 0
    while lines < 10_000:
        limit = 5 if i % failing_every == 0 else 7
        parts.append(
            f'/// Control {i}.\ncontrol c{i} "Control {i}"\n  severity minor\n  for s: System where s.tier >= {i % 3}\n'
            f'{{\n  let limit = {limit}\n  require s.owner is some\n    because "every system has an owner"\n'
            f"  require s.tier < limit\n}}\n\n"
        )
        lines += 11
        i += 1
    return "".join(parts)


def project(root: pathlib.Path, failing_every: int) -> str:
    (root / "policy").mkdir(parents=True)
    (root / "facts").mkdir()
    (root / "aims.toml").write_text(
        '[project]\nname = "bench"\nsources = ["policy"]\nas_of = "2026-11-01"\n\n'
        '[[facts]]\npath = "facts/systems.json"\n',
        encoding="utf-8",
    )
    source = policy(failing_every)
    (root / "policy" / "policy.aims").write_text(source, encoding="utf-8")
    systems = [{"id": f"s{i:03}", "tier": i % 7, "owner": "someone"} for i in range(256)]
    (root / "facts" / "systems.json").write_text(json.dumps({"System": systems}), encoding="utf-8")
    return source


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[AIMS, "lsp"], client_factory=make_client))
async def big(lsp_client: LanguageClient, tmp_path):
    root = (tmp_path / "project").resolve()
    root.mkdir()
    lsp_client.source = project(root, FAILING_EVERY)
    lsp_client.root = root
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim"),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")],
            root_uri=root.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


async def test_latency_on_a_10000_line_policy(big):
    client = big
    source = client.source
    document = (client.root / "policy" / "policy.aims").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=document, language_id="aims", version=1, text=source)
        )
    )
    await wait_for_version(client, document, 1, seconds=120)
    diagnostics = len(client.diagnostics[document])

    control = source.index("control c501 ")
    digit = source.index("let limit = ", control) + len("let limit = ")
    line = source.count("\n", 0, digit)
    character = digit - (source.rfind("\n", 0, digit) + 1)
    original = source[digit]

    changes = []
    current = original
    for version in range(2, EDITS + 2):
        current = "2" if current == original else original
        start = time.monotonic()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=document, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=line, character=character),
                            end=types.Position(line=line, character=character + 1),
                        ),
                        text=current,
                    )
                ],
            )
        )
        arrived = await wait_for_version(client, document, version)
        changes.append(arrived - start)

    formatting = []
    for _ in range(EDITS):
        start = time.monotonic()
        edits = await client.text_document_formatting_async(
            types.DocumentFormattingParams(
                text_document=types.TextDocumentIdentifier(uri=document),
                options=types.FormattingOptions(tab_size=2, insert_spaces=True),
            )
        )
        formatting.append(time.monotonic() - start)
    assert len(edits) == 1, "the formatter drops the blank line at the end only"

    references = []
    for _ in range(EDITS):
        start = time.monotonic()
        found = await client.text_document_references_async(
            types.ReferenceParams(
                text_document=types.TextDocumentIdentifier(uri=document),
                position=types.Position(line=1, character=8),
                context=types.ReferenceContext(include_declaration=True),
            )
        )
        references.append(time.monotonic() - start)
    assert len(found) > 900, "`System` is used by every control"

    result = {
        "lines": source.count("\n"),
        "failing_every": FAILING_EVERY,
        "diagnostics": diagnostics,
        "samples": EDITS,
        "did_change_to_publish_diagnostics_median_ms": median_ms(changes),
        "formatting_median_ms": median_ms(formatting),
        "references_median_ms": median_ms(references),
        "references_found": len(found),
    }
    write_result(timing_out(), result)


def timing_out() -> pathlib.Path:
    return pathlib.Path(os.environ.get("AIMS_LSP_TIMING_OUT") or REPOSITORY / "target" / "lsp-timing.json")


def write_result(out: pathlib.Path, result: dict):
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\naims lsp on a 10,000-line policy: {json.dumps(result)}")


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim is not installed")
def test_latency_in_neovim(tmp_path):
    root = (tmp_path / "project").resolve()
    root.mkdir()
    source = project(root, FAILING_EVERY)
    control = source.index("control c501 ")
    digit = source.index("let limit = ", control) + len("let limit = ")
    samples_file = tmp_path / "samples.txt"
    environment = dict(
        os.environ,
        AIMS_BIN=AIMS,
        AIMS_TIMING_ROOT=str(root),
        AIMS_TIMING_EDITS=str(EDITS),
        AIMS_TIMING_LINE=str(source.count("\n", 0, digit)),
        AIMS_TIMING_COLUMN=str(digit - (source.rfind("\n", 0, digit) + 1)),
        AIMS_TIMING_OUT=str(samples_file),
    )
    script = pathlib.Path(__file__).with_name("nvim_timing.lua")
    run = subprocess.run(
        ["nvim", "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {script}"],
        env=environment,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    samples = [[float(ms) / 1000 for ms in line.split()] for line in samples_file.read_text().splitlines()]
    assert len(samples) == EDITS and all(len(sample) == 2 for sample in samples), samples
    version = subprocess.run(["nvim", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    result = {
        "client": version,
        "lines": source.count("\n"),
        "failing_every": FAILING_EVERY,
        "samples": EDITS,
        "did_change_to_diagnostics_received_median_ms": median_ms([received for received, _ in samples]),
        "did_change_to_diagnostics_handled_median_ms": median_ms([handled for _, handled in samples]),
    }
    write_result(timing_out().with_name(timing_out().stem + "-neovim.json"), result)
