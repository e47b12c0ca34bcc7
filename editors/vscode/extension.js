// The aims extension: starts `aims lsp` for .aims documents. No build step:
// plain JavaScript on vscode-languageclient.
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function start(context) {
  const config = vscode.workspace.getConfiguration('aims');
  const command = config.get('server.path', 'aims');
  const server = { command, args: ['lsp'] };
  client = new LanguageClient(
    'aims',
    'aims language server',
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: 'file', language: 'aims' }],
      initializationOptions: {
        factsPollMilliseconds: config.get('server.factsPollMilliseconds', 1000),
      },
    },
  );
  context.subscriptions.push(client);
  return client.start();
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('aims.restartServer', async () => {
      if (client) {
        await client.stop();
      }
      await start(context);
    }),
  );
  return start(context);
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
