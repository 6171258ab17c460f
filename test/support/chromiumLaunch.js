// How every test and benchmark starts Chromium, in one place (plain JS so the Node benchmark
// runner can import it too). Debian's chromium, never a downloaded browser: installs here have no
// internet beyond npm and Debian. The flags stop Chromium from calling home, which this network
// refuses.

/** @type {string} */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** @type {string[]} */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]
