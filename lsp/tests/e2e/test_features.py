"""End-to-end tests of `aims lsp`: every feature through the real binary,
as Neovim and as VS Code (pytest-lsp's captured client capabilities)."""

import asyncio

import pytest
from lsprotocol import types

import os
import pathlib
import stat

from conftest import (
    codes,
    open_document,
    position,
    replace_document,
    text,
    units,
    uri,
    versions,
    wait_for,
    wait_for_version,
)

Information = types.DiagnosticSeverity.Information
Error = types.DiagnosticSeverity.Error


async def test_the_encoding_is_negotiated(client):
    expected = "utf-8" if client.profile == "neovim" else "utf-16"
    assert client.encoding == expected, "Neovim offers UTF-8 first, VS Code 1.65 offers nothing"


async def test_the_project_is_checked_and_evaluated(client):
    controls = uri(client, "policy/controls.aims")
    found = await wait_for(client, controls, lambda d: len(d) == 2)
    assert {d.severity for d in found} == {Information}
    bias = next(d for d in found if d.message.startswith("`bias_tested` fails"))
    assert "chatbot: no evidence: s.last_bias_test is not recorded" in bias.message
    assert bias.related_information[0].location.range.start.line == 6
    schema = uri(client, "policy/schema.aims")
    warnings = await wait_for(client, schema, lambda d: len(d) > 0)
    assert set(codes(warnings)) == {"W0002"}


async def test_an_error_has_its_code_help_and_related_information(client):
    controls = uri(client, "policy/controls.aims")
    source = open_document(client, "policy/controls.aims")
    broken = source.replace("require s.human_oversight", "require s.human_oversigt")
    replace_document(client, "policy/controls.aims", 2, broken)
    found = await wait_for(client, controls, lambda d: "E0102" in codes(d))
    error = next(d for d in found if d.severity == Error)
    assert error.range.start == position(client, broken, "human_oversigt")
    assert "help: did you mean `human_oversight`?" in error.message
    assert error.related_information[0].location.uri == uri(client, "policy/schema.aims")


async def test_positions_after_non_ascii_text(client):
    controls = uri(client, "policy/controls.aims")
    source = open_document(client, "policy/controls.aims")
    edited = source + '\ncontrol oversee "é 😀 ü" for s: AISystem where s.status != retired { require s.human_oversigt }\n'
    replace_document(client, "policy/controls.aims", 2, edited)
    found = await wait_for(client, controls, lambda d: "E0102" in codes(d))
    expected = position(client, edited, "human_oversigt")
    assert found[0].range.start == expected
    line = edited.splitlines()[expected.line]
    prefix = line[: line.index("human_oversigt")]
    assert expected.character == units(client, prefix) != len(prefix), "multibyte characters count in the encoding"
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=controls),
            position=position(client, edited, "status !=", nth=1, within=2),
        )
    )
    assert "AISystem.status: Status" in hover.contents.value


async def test_hover_definition_and_references(client):
    controls = uri(client, "policy/controls.aims")
    source = open_document(client, "policy/controls.aims")
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=controls),
            position=position(client, source, "bias_tested", within=1),
        )
    )
    assert "**Outcomes as of 2026-11-01:** 1 pass · 1 fail · 1 n/a" in hover.contents.value
    definition = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=controls),
            position=position(client, source, "AISystem", within=1),
        )
    )
    locations = definition if isinstance(definition, list) else [definition]
    assert locations[0].uri == uri(client, "policy/schema.aims")
    references = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=controls),
            position=position(client, source, "AISystem", within=1),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert len(references) == 3


async def test_rename_and_a_refused_rename(client):
    schema = uri(client, "policy/schema.aims")
    source = open_document(client, "policy/schema.aims")
    at = position(client, source, "AISystem")
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=types.TextDocumentIdentifier(uri=schema), position=at)
    )
    assert prepared.placeholder == "AISystem"
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=types.TextDocumentIdentifier(uri=schema), position=at, new_name="System")
    )
    assert sorted(len(edits) for edits in edit.changes.values()) == [1, 2]
    with pytest.raises(Exception, match="already exists"):
        await client.text_document_rename_async(
            types.RenameParams(text_document=types.TextDocumentIdentifier(uri=schema), position=at, new_name="Status")
        )


async def test_completion_after_a_dot_and_snippets(client):
    controls = uri(client, "policy/controls.aims")
    source = open_document(client, "policy/controls.aims")
    typing = source.replace("require s.human_oversight\n", "require s.\n")
    replace_document(client, "policy/controls.aims", 2, typing)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=controls),
            position=position(client, typing, "require s.\n", within=10),
        )
    )
    items = result if isinstance(result, list) else result.items
    assert sorted(i.label for i in items) == ["human_oversight", "id", "last_bias_test", "name", "status"]
    end = types.Position(line=len(typing.splitlines()), character=0)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=controls), position=end)
    )
    items = result if isinstance(result, list) else result.items
    snippets = [i for i in items if i.kind == types.CompletionItemKind.Snippet]
    assert sorted(i.label for i in snippets) == ["control", "objective", "risk"]
    assert all(i.insert_text_format == types.InsertTextFormat.Snippet for i in snippets)


async def test_formatting(client):
    controls = uri(client, "policy/controls.aims")
    source = open_document(client, "policy/controls.aims")
    messy = source.replace("  require s.human_oversight", "      require   s.human_oversight")
    replace_document(client, "policy/controls.aims", 2, messy)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=controls),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    # One edit, of the line out of shape only.
    line = position(client, messy, "      require   s.human_oversight").line
    assert len(edits) == 1 and edits[0].new_text == "  require s.human_oversight\n"
    assert (edits[0].range.start.line, edits[0].range.start.character) == (line, 0)
    assert (edits[0].range.end.line, edits[0].range.end.character) == (line + 1, 0)
    lines = messy.splitlines(keepends=True)
    lines[line] = edits[0].new_text
    assert "".join(lines) == source


async def test_diagnostics_carry_the_document_version(client):
    controls = uri(client, "policy/controls.aims")
    source = open_document(client, "policy/controls.aims")
    await wait_for_version(client, controls, 1)
    for version in range(2, 12):
        edited = source.replace("s.human_oversight", "s.nope") if version % 2 else source + "\n" * version
        replace_document(client, "policy/controls.aims", version, edited)
    await wait_for_version(client, controls, 11)
    assert codes(client.diagnostics[controls]) == ["E0102"], "the diagnostics of version 11"
    published = [v for v in versions(client, controls) if v is not None]
    assert published == sorted(published), f"never a stale version after a newer one: {published}"
    schema = uri(client, "policy/schema.aims")
    assert all(v is None for v in versions(client, schema)), "a file not open has no version"


async def test_definition_of_requirement_identifiers_opens_the_stdlib_source(client):
    controls = uri(client, "policy/controls.aims")
    source = open_document(client, "policy/controls.aims")
    edited = source + "\naudit reviewed clause 9.2.1 { require true }\n"
    replace_document(client, "policy/controls.aims", 2, edited)
    await wait_for_version(client, controls, 2)
    for identifier, module in [("A.6.2.4", "iso42001/annex_a.aims"), ("9.2.1", "iso42001/clauses.aims")]:
        definition = await client.text_document_definition_async(
            types.DefinitionParams(
                text_document=types.TextDocumentIdentifier(uri=controls),
                position=position(client, edited, identifier, within=2),
            )
        )
        locations = definition if isinstance(definition, list) else [definition]
        assert len(locations) == 1, locations
        path = pathlib.Path(locations[0].uri.removeprefix("file://"))
        assert path.as_posix().endswith(module), path
        assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), "read-only"
        line = path.read_text(encoding="utf-8").splitlines()[locations[0].range.start.line]
        assert line.startswith(f"requirement {identifier} "), line
        start = locations[0].range.start.character
        assert line[start : start + len(identifier)] == identifier


async def test_code_actions_fix_exclude_and_exception(client):
    controls = uri(client, "policy/controls.aims")
    source = open_document(client, "policy/controls.aims")
    await wait_for(client, controls, lambda d: len(d) == 2)
    at = position(client, source, "require s.last_bias_test", within=2)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=controls),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert [a.title for a in actions] == ['Add an exception to `bias_tested` for AISystem "chatbot"']

    schema = uri(client, "policy/schema.aims")
    schema_source = open_document(client, "policy/schema.aims")
    at = position(client, schema_source, "iso42001", within=2)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=schema),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert any(a.title.startswith("Exclude A.2.2 ") for a in actions)

    broken = source.replace("s.human_oversight", "s.human_oversigt")
    replace_document(client, "policy/controls.aims", 2, broken)
    await wait_for(client, controls, lambda d: "E0102" in codes(d))
    at = position(client, broken, "human_oversigt", within=2)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=controls),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    fix = next(a for a in actions if a.title == "replace with `human_oversight`")
    assert fix.edit.changes[controls][0].new_text == "human_oversight"


async def lenses(client, relative):
    found = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri(client, relative)))
    )
    return [lens.command.title for lens in found]


async def test_code_lenses_follow_the_fact_files(client):
    assert await lenses(client, "policy/controls.aims") == ["1 pass · 1 fail · 1 n/a"] * 2
    facts = client.root / "facts" / "systems.yaml"
    tested = text(client, "facts/systems.yaml").replace(
        "    status: deployed\n  - id: legacy", "    status: deployed\n    last_bias_test: 2026-10-01\n  - id: legacy"
    )
    facts.write_text(tested, encoding="utf-8")
    if client.profile == "visual-studio-code":
        # VS Code watches the files the server registered and says so.
        assert any("systems.yaml" in str(r) for r in getattr(client, "registrations", []))
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=facts.as_uri(), type=types.FileChangeType.Changed)]
            )
        )
    # Neovim's profile cannot watch files: the server polls them.
    for _ in range(300):
        found = await lenses(client, "policy/controls.aims")
        if found[0] == "2 pass · 0 fail · 1 n/a":
            break
        await asyncio.sleep(0.05)
    assert found == ["2 pass · 0 fail · 1 n/a", "1 pass · 1 fail · 1 n/a"]


async def test_semantic_tokens(client):
    controls = uri(client, "policy/controls.aims")
    source = open_document(client, "policy/controls.aims")
    edited = source.replace('"A person can intervene"', '"A person 😀 can intervene"')
    replace_document(client, "policy/controls.aims", 2, edited)
    legend = client.initialize_result.capabilities.semantic_tokens_provider.legend
    result = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=types.TextDocumentIdentifier(uri=controls))
    )
    tokens, line, start = {}, 0, 0
    data = result.data
    for i in range(0, len(data), 5):
        if data[i] > 0:
            line, start = line + data[i], data[i + 1]
        else:
            start += data[i + 1]
        tokens[(line, start)] = (data[i + 2], legend.token_types[data[i + 3]], data[i + 4])
    title = position(client, edited, '"A person 😀')
    assert tokens[(title.line, title.character)] == (units(client, '"A person 😀 can intervene"'), "string", 0)
    name = position(client, edited, "bias_tested")
    assert tokens[(name.line, name.character)][1:] == ("class", 1), "a rule, declared"
    entity = position(client, edited, "AISystem")
    assert tokens[(entity.line, entity.character)][1] == "struct"


async def test_document_and_workspace_symbols(client):
    controls = uri(client, "policy/controls.aims")
    source = open_document(client, "policy/controls.aims")
    replace_document(client, "policy/controls.aims", 2, "control broken { require }\n" + source)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=controls))
    )
    assert [s.name for s in symbols] == ["bias_tested", "overseen"]
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="bias"))
    assert sorted(s.name for s in found) == ["bias_tested", "last_bias_test"]
