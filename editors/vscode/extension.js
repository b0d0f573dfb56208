// Starts `hpdsl lsp` for .rules files. The command comes from the setting
// `hpdsl.server.command` (default: ["hpdsl", "lsp"]); changing it restarts the server.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverOptions() {
  const configured = vscode.workspace.getConfiguration("hpdsl").get("server.command");
  const command = Array.isArray(configured) && configured.length > 0 ? configured : ["hpdsl", "lsp"];
  return { command: command[0], args: command.slice(1), transport: TransportKind.stdio };
}

async function start() {
  client = new LanguageClient("hpdsl", "hpdsl language server", serverOptions(), {
    documentSelector: [{ language: "hpdsl" }, { language: "hpdsl-scenario" }],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.rules"),
    },
  });
  await client.start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("hpdsl.server.command")) {
        await deactivate();
        await start();
      }
    })
  );
  await start();
}

async function deactivate() {
  if (client) {
    const running = client;
    client = undefined;
    await running.stop();
  }
}

module.exports = { activate, deactivate };
