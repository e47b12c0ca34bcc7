"""The real binary over raw stdio: malformed JSON-RPC is answered and the
server goes on; the exit code follows the protocol."""

import asyncio
import json

from conftest import AIMS


def frame(body: str | bytes) -> bytes:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return b"Content-Length: %d\r\n\r\n" % len(data) + data


async def read_message(stdout: asyncio.StreamReader) -> dict:
    length = None
    while True:
        line = (await asyncio.wait_for(stdout.readline(), 15)).decode("ascii").strip()
        if not line:
            if length is not None:
                break
            continue
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return json.loads(await stdout.readexactly(length))


async def response(stdout: asyncio.StreamReader, id_) -> dict:
    while True:
        message = await read_message(stdout)
        if "method" not in message and message.get("id") == id_:
            return message


async def start():
    return await asyncio.create_subprocess_exec(
        AIMS, "lsp", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )


async def test_malformed_messages_are_answered_and_the_server_goes_on():
    server = await start()
    send = server.stdin.write
    send(frame('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}'))
    assert "capabilities" in (await response(server.stdout, 1))["result"]
    send(frame('{"jsonrpc":"2.0","method":"initialized","params":{}}'))
    send(frame("{ this is not json"))
    assert (await response(server.stdout, None))["error"]["code"] == -32700
    send(frame(b"\xff\xfe not utf-8"))
    assert (await response(server.stdout, None))["error"]["code"] == -32700
    send(frame('{"jsonrpc":"2.0","id":7,"params":{}}'))
    assert (await response(server.stdout, 7))["error"]["code"] == -32600
    send(b"Content-Type: nonsense\r\n\r\n")
    send(frame('{"jsonrpc":"2.0","id":2,"method":"workspace/symbol","params":{"query":""}}'))
    assert (await response(server.stdout, 2))["result"] == []
    send(frame('{"jsonrpc":"2.0","id":3,"method":"shutdown"}'))
    await response(server.stdout, 3)
    send(frame('{"jsonrpc":"2.0","method":"exit"}'))
    assert await asyncio.wait_for(server.wait(), 15) == 0


async def test_exit_without_shutdown_is_an_error_exit():
    server = await start()
    server.stdin.write(frame('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}'))
    await response(server.stdout, 1)
    server.stdin.write(frame('{"jsonrpc":"2.0","method":"exit"}'))
    assert await asyncio.wait_for(server.wait(), 15) == 1


async def test_closing_stdin_ends_the_server():
    server = await start()
    server.stdin.close()
    assert await asyncio.wait_for(server.wait(), 15) == 1
