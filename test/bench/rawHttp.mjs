// A minimal HTTP/1.1 client over one keep-alive socket, for the server bench: one request at a
// time, Content-Length or chunked responses. node:http costs about as much CPU a request as the
// servers under test do, so on a 2-core machine it would measure itself; this costs a fraction.
import { connect } from 'node:net'

const CRLF2 = Buffer.from('\r\n\r\n')

export class RawConnection {
  #socket
  #buffer = Buffer.alloc(0)
  #waiting = null
  #host

  constructor(url) {
    const { hostname, port } = new URL(url)
    this.#host = `${hostname}:${port}`
    this.#address = { host: hostname, port: Number(port), noDelay: true }
    this.ready = this.#connect()
  }

  #address

  /** Connects (again: servers close keep-alive connections idle for a few seconds). */
  #connect() {
    const socket = connect(this.#address)
    this.#socket = socket
    this.#buffer = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk
      this.#parse()
    })
    socket.on('error', (error) => this.#waiting?.reject(error))
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = null
      this.#waiting?.reject(new Error('the server closed the connection'))
    })
    return new Promise((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
  }

  /** Sends one request; resolves to { status, headers (lower-case names), body: Buffer }. */
  async request(method, path, headers = {}, body) {
    if (!this.#socket) await this.#connect()
    const payload = body === undefined ? undefined : Buffer.from(body)
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.#host}\r\n`
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`
    if (payload) head += `content-length: ${payload.length}\r\n`
    head += '\r\n'
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject, method }
      this.#socket.write(payload ? Buffer.concat([Buffer.from(head), payload]) : head)
    })
  }

  #parse() {
    const waiting = this.#waiting
    if (!waiting) return
    const end = this.#buffer.indexOf(CRLF2)
    if (end < 0) return
    const lines = this.#buffer.subarray(0, end).toString('latin1').split('\r\n')
    const status = Number(lines[0].split(' ')[1])
    const headers = {}
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    let at = end + 4
    let body
    if (waiting.method === 'HEAD' || status === 204 || status === 304) {
      body = Buffer.alloc(0)
    } else if (headers['transfer-encoding']?.includes('chunked')) {
      const parts = []
      for (;;) {
        const lineEnd = this.#buffer.indexOf('\r\n', at)
        if (lineEnd < 0) return
        const size = parseInt(this.#buffer.subarray(at, lineEnd).toString('latin1'), 16)
        if (this.#buffer.length < lineEnd + 2 + size + 2) return
        at = lineEnd + 2
        if (size === 0) {
          at += 2
          break
        }
        parts.push(this.#buffer.subarray(at, at + size))
        at += size + 2
      }
      body = Buffer.concat(parts)
    } else {
      const length = Number(headers['content-length'] ?? 0)
      if (this.#buffer.length < at + length) return
      body = this.#buffer.subarray(at, at + length)
      at += length
    }
    this.#buffer = this.#buffer.subarray(at)
    this.#waiting = null
    if (headers.connection === 'close') this.#socket = null
    waiting.resolve({ status, headers, body })
  }

  close() {
    this.#socket?.destroy()
  }
}
