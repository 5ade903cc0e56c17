#include "tests/support/node_server.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <sstream>
#include <stdexcept>

#ifndef EDGESHAKE_NODE_DEFAULT
#error "EDGESHAKE_NODE_DEFAULT (the project-local node binary) is set by CMake"
#endif

namespace edgeshake::testing {

namespace {

// The server script; its configuration comes from the JSON file named on its
// command line (see NodeTlsServer::NodeTlsServer).
constexpr const char* k_script = R"js('use strict';
// edgeshake's NodeTlsServer test origin (written by tests/support/node_server.cpp).
const fs = require('fs');
const net = require('net');
const tls = require('tls');
const { Duplex } = require('stream');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const say = (line) => process.stdout.write(line + '\n');

const GROUPS = {
  0x0017: 'secp256r1', 0x0018: 'secp384r1', 0x0019: 'secp521r1', 0x001d: 'X25519',
  0x001e: 'X448', 0x0100: 'ffdhe2048', 0x0101: 'ffdhe3072', 0x0102: 'ffdhe4096',
  0x0103: 'ffdhe6144', 0x0104: 'ffdhe8192', 0x0200: 'MLKEM512', 0x0201: 'MLKEM768',
  0x0202: 'MLKEM1024', 0x11eb: 'SecP256r1MLKEM768', 0x11ec: 'X25519MLKEM768',
  0x11ed: 'SecP384r1MLKEM1024',
};
const groupName = (g) => GROUPS[g] || ('0x' + g.toString(16).padStart(4, '0'));
const HRR_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

// Reads the server's own cleartext handshake messages (ServerHello, HelloRetryRequest,
// TLS <= 1.2 ServerKeyExchange) as they go out: Node does not tell a server which
// key-exchange group it negotiated.
class ServerFlight {
  constructor() { this.records = Buffer.alloc(0); this.hs = Buffer.alloc(0); this.done = false;
                  this.group = null; this.hrrGroup = null; this.ske = null; }
  feed(chunk) {
    if (this.done) return;
    this.records = Buffer.concat([this.records, chunk]);
    while (!this.done && this.records.length >= 5) {
      const type = this.records[0], len = this.records.readUInt16BE(3);
      if (this.records.length < 5 + len) return;
      const body = this.records.subarray(5, 5 + len);
      this.records = this.records.subarray(5 + len);
      if (type === 20) continue;           // change_cipher_spec (middlebox compatibility)
      if (type !== 22) { this.done = true; return; } // encrypted from here on
      this.hs = Buffer.concat([this.hs, body]);
      this.messages();
    }
    if (this.records.length > 65536) this.done = true;
  }
  messages() {
    while (!this.done && this.hs.length >= 4) {
      const type = this.hs[0], len = this.hs.readUIntBE(1, 3);
      if (this.hs.length < 4 + len) return;
      const m = this.hs.subarray(4, 4 + len);
      this.hs = this.hs.subarray(4 + len);
      if (type === 2) this.serverHello(m);
      else if (type === 12) { this.ske = Buffer.from(m.subarray(0, 3)); this.done = true; }
      else if (type === 14) this.done = true; // ServerHelloDone
    }
  }
  serverHello(m) {
    let p = 2;
    const hrr = m.subarray(p, p + 32).equals(HRR_RANDOM);
    p += 32;
    p += 1 + m[p];  // session id
    p += 3;         // cipher suite, compression
    if (p + 2 > m.length) return;
    const end = Math.min(m.length, p + 2 + m.readUInt16BE(p));
    p += 2;
    let tls13 = false;
    while (p + 4 <= end) {
      const t = m.readUInt16BE(p), l = m.readUInt16BE(p + 2), e = m.subarray(p + 4, p + 4 + l);
      p += 4 + l;
      if (t === 43 && e.length >= 2 && e.readUInt16BE(0) === 0x0304) tls13 = true;
      if (t === 51 && e.length >= 2) {
        if (hrr) this.hrrGroup = e.readUInt16BE(0); else this.group = e.readUInt16BE(0);
      }
    }
    if (tls13 && !hrr) this.done = true;
  }
  groupFor(cipherName) {
    if (this.group !== null) return groupName(this.group);
    if (this.ske && /ECDHE/.test(cipherName) && this.ske[0] === 3)
      return groupName(this.ske.readUInt16BE(1));
    return 'none';
  }
}

class Tap extends Duplex {
  constructor(raw, flight) {
    super();
    this.raw = raw;
    this.flight = flight;
    raw.on('data', (d) => { if (!this.push(d)) raw.pause(); });
    raw.on('end', () => this.push(null));
    raw.on('error', (e) => this.destroy(e));
    this.on('error', () => {}); // reported by the TLS socket on top
  }
  _read() { this.raw.resume(); }
  _write(chunk, encoding, callback) { this.flight.feed(chunk); this.raw.write(chunk, callback); }
  _final(callback) { this.raw.end(); callback(); }
  _destroy(err, callback) { this.raw.destroy(); callback(err); }
}

const options = { key: fs.readFileSync(cfg.key), cert: fs.readFileSync(cfg.cert) };
if (cfg.curves) options.ecdhCurve = cfg.curves;
if (cfg.min_version) options.minVersion = cfg.min_version;
if (cfg.max_version) options.maxVersion = cfg.max_version;
if (cfg.ciphers) options.ciphers = cfg.ciphers;
if (cfg.sigalgs) options.sigalgs = cfg.sigalgs;
const context = tls.createSecureContext(options);
const body = 'edgeshake node origin ok\n';
const reply = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ' + body.length +
              '\r\nConnection: close\r\n\r\n' + body;
let count = 0;

const server = net.createServer((raw) => {
  const n = ++count;
  const flight = new ServerFlight();
  const socket = new tls.TLSSocket(new Tap(raw, flight), {
    isServer: true, secureContext: context,
    ALPNProtocols: cfg.alpn && cfg.alpn.length ? cfg.alpn : undefined,
  });
  let answered = false;
  socket.on('secure', () => {
    const c = socket.getCipher() || {};
    say(`CONNECTION ${n} protocol=${socket.getProtocol()} cipher=${c.standardName || c.name} ` +
        `group=${flight.groupFor(c.name || '')} ` +
        `hrr=${flight.hrrGroup === null ? 'none' : groupName(flight.hrrGroup)} ` +
        `alpn=${socket.alpnProtocol || 'none'}`);
  });
  socket.on('data', () => {
    if (answered) return;
    answered = true;
    socket.end(reply);
  });
  socket.on('error', (e) =>
    say(`ERROR ${n} ${e.code || 'none'} ${String(e.message).replace(/\s+/g, ' ')}`));
});
server.listen(0, '127.0.0.1', () => {
  say(`NODE ${process.version} OPENSSL ${process.versions.openssl}`);
  say(`LISTENING ${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('uncaughtException', (e) => say(`UNCAUGHT ${String(e.message).replace(/\s+/g, ' ')}`));
)js";

// "KEY value value" lines of the log.
std::vector<std::string> lines_starting(const std::string& text, const std::string& key) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + " ", 0) == 0)
      out.push_back(line.substr(key.size() + 1));
  return out;
}

} // namespace

std::string node_program() {
  const char* env = std::getenv("EDGESHAKE_NODE");
  return env && *env ? std::string(env) : std::string(EDGESHAKE_NODE_DEFAULT);
}

NodeTlsServer::NodeTlsServer(NodeTlsServerConfig config)
    : ChildServer("edgeshake-node"), m_config(std::move(config)) {
  const std::string node = node_program();
  if (!find_program(node))
    throw std::runtime_error("Node.js not found at " + node + " (scripts/install-deps.sh)");
  write_file(m_dir / "server.js", k_script);
  nlohmann::json cfg = {
      {"cert", m_config.cert.string()},      {"key", m_config.key.string()},
      {"curves", m_config.curves},           {"min_version", m_config.min_version},
      {"max_version", m_config.max_version}, {"ciphers", m_config.ciphers},
      {"sigalgs", m_config.sigalgs},         {"alpn", m_config.alpn}};
  write_file(m_dir / "config.json", cfg.dump(2));
  m_process = Process({node, (m_dir / "server.js").string(), (m_dir / "config.json").string()},
                      m_dir / "node.log", m_dir.path());
  const auto state = wait_for_log(m_process, [](const std::string& text) {
    return !lines_starting(text, "LISTENING").empty();
  });
  const std::string text = m_process.log();
  if (state != LogWait::ready) {
    m_process.stop();
    throw std::runtime_error("the Node.js TLS server did not start:\n" + text);
  }
  m_port = static_cast<std::uint16_t>(std::stoi(lines_starting(text, "LISTENING").front()));
  const auto versions = lines_starting(text, "NODE"); // "v26.12.1 OPENSSL 3.5.9"
  if (!versions.empty()) {
    std::istringstream in(versions.front());
    std::string word;
    in >> m_node_version >> word >> m_openssl_version;
  }
}

std::vector<NodeTlsConnection> NodeTlsServer::connections() const {
  std::vector<NodeTlsConnection> out;
  for (const auto& line : lines_starting(log(), "CONNECTION")) {
    std::istringstream in(line);
    NodeTlsConnection c;
    in >> c.index;
    std::string field;
    while (in >> field) {
      const auto eq = field.find('=');
      if (eq == std::string::npos)
        continue;
      const std::string key = field.substr(0, eq), value = field.substr(eq + 1);
      if (key == "protocol")
        c.protocol = value;
      else if (key == "cipher")
        c.cipher = value;
      else if (key == "group")
        c.group = value;
      else if (key == "hrr")
        c.hello_retry_group = value;
      else if (key == "alpn")
        c.alpn = value;
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<NodeTlsConnection>
NodeTlsServer::wait_for_connections(std::size_t count, std::chrono::milliseconds timeout) const {
  return poll_until_count([this] { return connections(); }, count, timeout);
}

std::vector<std::string> NodeTlsServer::errors() const {
  return lines_starting(log(), "ERROR");
}

} // namespace edgeshake::testing
