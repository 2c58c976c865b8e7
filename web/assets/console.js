// latchkey consoles: the only script, progressive enhancement. Every page works without it;
// with it, "Copy" buttons put a secret or token on the clipboard.

function announce(text) {
  const status = document.getElementById('status');
  if (status) status.textContent = text;
}

function selectText(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

async function copy(button) {
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = source.textContent;
  try {
    await navigator.clipboard.writeText(text);
    announce(`${button.dataset.what || 'Text'} copied to the clipboard.`);
  } catch {
    // No clipboard access (an insecure origin, a denied permission): select it for Ctrl+C.
    selectText(source);
    announce('Press Ctrl+C (or Cmd+C) to copy the selected text.');
  }
}

for (const button of document.querySelectorAll('button[data-copy]')) {
  button.hidden = false;
  button.addEventListener('click', () => copy(button));
}
