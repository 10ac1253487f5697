// The two capture windows' pages, served from memory at llava-desk://app/capture/...: markup and
// styles only. They run no script of their own (their CSP allows none); the preload wires them.

export const OVERLAY_PATH = '/capture/overlay.html';
export const ASK_PATH = '/capture/ask.html';

const OVERLAY_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Select a region</title>
<style>
html, body { margin: 0; height: 100%; overflow: hidden; background: transparent;
  cursor: crosshair; user-select: none; font: 14px system-ui, sans-serif; }
#shade { position: fixed; inset: 0; background: rgba(0, 0, 0, 0.35); }
#selection { position: fixed; display: none; outline: 2px solid #4da3ff;
  box-shadow: 0 0 0 100vmax rgba(0, 0, 0, 0.35); }
#hint { position: fixed; top: 16px; left: 50%; transform: translateX(-50%); color: #fff;
  background: rgba(0, 0, 0, 0.75); padding: 6px 12px; border-radius: 6px; pointer-events: none; }
</style>
</head>
<body>
<div id="shade"></div>
<div id="selection" role="region" aria-label="Selected region"></div>
<div id="hint" role="status">Drag to select a region. Enter: the whole screen. Esc: cancel.</div>
</body>
</html>
`;

const ASK_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ask about the screenshot</title>
<style>
:root { color-scheme: light dark; font: 14px system-ui, sans-serif; }
body { margin: 0; padding: 12px; display: flex; flex-direction: column; gap: 10px;
  height: 100vh; box-sizing: border-box; }
#crop { max-width: 100%; max-height: 160px; object-fit: contain; align-self: center;
  border: 1px solid rgba(128, 128, 128, 0.4); border-radius: 4px; }
#answer { flex: 1; overflow-y: auto; white-space: pre-wrap; overflow-wrap: anywhere;
  border: 1px solid rgba(128, 128, 128, 0.3); border-radius: 4px; padding: 8px; min-height: 60px; }
#error { color: #d33; white-space: pre-wrap; }
form { display: flex; gap: 6px; }
#question { flex: 1; resize: none; font: inherit; padding: 6px; }
.row { display: flex; gap: 6px; justify-content: space-between; }
</style>
</head>
<body>
<img id="crop" alt="The selected region">
<div id="answer" role="log" aria-live="polite" aria-label="Answer"></div>
<div id="error" role="alert" hidden></div>
<form id="form">
<textarea id="question" rows="2" aria-label="Question" placeholder="Ask about this region"></textarea>
<button id="ask" type="submit">Ask</button>
</form>
<div class="row">
<button id="continue" type="button" disabled>Continue in the main window</button>
<button id="close" type="button">Close</button>
</div>
</body>
</html>
`;

/** The generated pages by URL path, for the app protocol. */
export const CAPTURE_PAGES: ReadonlyMap<string, string> = new Map([
  [OVERLAY_PATH, OVERLAY_HTML],
  [ASK_PATH, ASK_HTML],
]);
