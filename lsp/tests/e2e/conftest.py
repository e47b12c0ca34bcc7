"""Fixtures: the real `aims lsp` binary, driven by pytest-lsp's client
with the captured capabilities of Neovim and of VS Code, on a fresh copy
of the fixture project (lsp/tests/fixture) for every test."""

import asyncio
import os
import pathlib
import shutil
import time

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pygls.protocol import default_converter

HERE = pathlib.Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent.parent
FIXTURE = HERE.parent / "fixture"
AIMS = os.environ.get("AIMS_BIN") or str(REPOSITORY / "target" / "release" / "aims")

# The profiles pytest-lsp ships: the latest Neovim and VS Code it knows.
PROFILES = ["neovim", "visual-studio-code"]


def make_client() -> LanguageClient:
    # pytest-lsp's client, but publications of diagnostics are recorded with
    # their version and the time they arrived.
    client = LanguageClient(converter_factory=default_converter)
    register_lsp_features(
        client,
        {m: f for m, f in DEFAULT_CLIENT_FEATURES.items() if m != types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS},
    )
    client.publications = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(params: types.PublishDiagnosticsParams):
        client.diagnostics[params.uri] = params.diagnostics
        client.publications.setdefault(params.uri, []).append((time.monotonic(), params.version))

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params):  # the server asks to watch the fact files
        client.registrations = getattr(client, "registrations", []) + [params]
        return None

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def refresh(params):
        client.lens_refreshes = getattr(client, "lens_refreshes", 0) + 1
        return None

    return client


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[AIMS, "lsp"], client_factory=make_client),
    params=PROFILES,
)
async def client(lsp_client: LanguageClient, request, tmp_path):
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    root = root.resolve()
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")],
            root_uri=root.as_uri(),
            initialization_options={"factsPollMilliseconds": 100},
        )
    )
    lsp_client.profile = request.param
    lsp_client.root = root
    lsp_client.encoding = result.capabilities.position_encoding or types.PositionEncodingKind.Utf16
    lsp_client.initialize_result = result
    yield
    await lsp_client.shutdown_session()


def uri(client: LanguageClient, relative: str) -> str:
    return (client.root / relative).as_uri()


def text(client: LanguageClient, relative: str) -> str:
    return (client.root / relative).read_text(encoding="utf-8")


def units(client: LanguageClient, s: str) -> int:
    """The length of `s` in the negotiated position encoding."""
    if client.encoding == types.PositionEncodingKind.Utf8:
        return len(s.encode("utf-8"))
    if client.encoding == types.PositionEncodingKind.Utf32:
        return len(s)
    return len(s.encode("utf-16-le")) // 2


def position(client: LanguageClient, source: str, needle: str, nth: int = 0, within: int = 0) -> types.Position:
    at = -1
    for _ in range(nth + 1):
        at = source.index(needle, at + 1)
    at += within
    line = source.count("\n", 0, at)
    line_start = source.rfind("\n", 0, at) + 1
    return types.Position(line=line, character=units(client, source[line_start:at]))


def open_document(client: LanguageClient, relative: str, source: str | None = None) -> str:
    source = text(client, relative) if source is None else source
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri(client, relative), language_id="aims", version=1, text=source)
        )
    )
    return source


def replace_document(client: LanguageClient, relative: str, version: int, source: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri(client, relative), version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=source)],
        )
    )


def versions(client: LanguageClient, document: str) -> list:
    """The version of every publication of `document`'s diagnostics, in order."""
    return [version for _, version in client.publications.get(document, [])]


async def wait_for_version(client: LanguageClient, document: str, version: int, seconds: float = 30.0) -> float:
    """Waits until diagnostics of `version` of `document` arrive; returns when they did."""
    for _ in range(int(seconds / 0.001)):
        for at, published in client.publications.get(document, []):
            if published == version:
                return at
        await asyncio.sleep(0.001)
    raise AssertionError(f"version {version} of {document} never published: {versions(client, document)}")


async def wait_for(client: LanguageClient, document: str, ready, seconds: float = 15.0):
    """Waits until the diagnostics of `document` satisfy `ready`."""
    for _ in range(int(seconds / 0.02)):
        found = client.diagnostics.get(document, [])
        if ready(found):
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"diagnostics of {document} never got ready: {client.diagnostics.get(document)}")


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics if isinstance(d.code, str)]
