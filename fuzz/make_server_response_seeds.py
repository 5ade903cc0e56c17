#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_server_response: hand-built server flights
(TLS 1.2 / 1.3 ServerHello, HelloRetryRequest, alerts, a TLS 1.2 flight through
ServerKeyExchange, SSLv2, plain text, and the hostile server's openings)."""
import os, struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_server_response")
os.makedirs(out, exist_ok=True)

def u16(v): return struct.pack(">H", v)
def u24(v): return struct.pack(">I", v)[1:]
def ext(t, body): return u16(t) + u16(len(body)) + body
def hs(t, body): return bytes([t]) + u24(len(body)) + body
def rec(t, body, v=0x0303): return bytes([t]) + u16(v) + u16(len(body)) + body

HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")

def server_hello(version=0x0303, suite=0xC02F, exts=b"", random=bytes(range(32)), sid=b""):
    body = u16(version) + random + bytes([len(sid)]) + sid + u16(suite) + b"\x00"
    body += u16(len(exts)) + exts
    return hs(2, body)

seeds = {}
seeds["tls12_sh"] = rec(22, server_hello(exts=ext(0xFF01, b"\x00") + ext(0x0017, b"")))
seeds["tls12_sh_alpn"] = rec(22, server_hello(exts=ext(0x0010, u16(3) + b"\x02h2") + ext(0, b"")))
seeds["tls13_sh"] = rec(22, server_hello(suite=0x1301, sid=bytes(32),
    exts=ext(43, u16(0x0304)) + ext(51, u16(0x001D) + u16(32) + bytes(32))))
seeds["tls13_hrr"] = rec(22, server_hello(suite=0x1302, sid=bytes(32), random=HRR_RANDOM,
    exts=ext(43, u16(0x0304)) + ext(51, u16(0x0017))))
seeds["alert_handshake_failure"] = rec(21, b"\x02\x28")
seeds["alert_protocol_version"] = rec(21, b"\x02\x46", 0x0301)
seeds["alert_after_sh"] = seeds["tls12_sh"] + rec(21, b"\x02\x50")
cert = b"\x30\x82\x01\x00" + bytes(256)
certificate = hs(11, u24(len(cert) + 3) + u24(len(cert)) + cert)
ske_ecdhe = hs(12, b"\x03" + u16(0x001D) + b"\x20" + bytes(32) + u16(0x0403) + u16(8) + bytes(8))
ske_dhe = hs(12, u16(256) + b"\xff" * 256 + u16(1) + b"\x02" + u16(256) + bytes(256) + u16(0x0401) + u16(4) + bytes(4))
seeds["tls12_flight_ecdhe"] = rec(22, server_hello() + certificate + ske_ecdhe + hs(14, b""))
seeds["tls12_flight_dhe"] = rec(22, server_hello(suite=0x009E) + certificate + ske_dhe + hs(14, b""))
seeds["tls12_flight_split"] = rec(22, server_hello()) + rec(22, certificate[:100]) + rec(22, certificate[100:] + ske_ecdhe) + rec(22, hs(14, b""))
seeds["sslv2"] = b"\x80\x2e\x04\x00\x01\x00\x02" + bytes(0x29)
seeds["http"] = b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n"
seeds["ssh"] = b"SSH-2.0-OpenSSH_9.2\r\n"
seeds["huge_length"] = b"\x16\x03\x03\x40\x00\x02\xff\xff\xff"
seeds["record_too_long"] = b"\x16\x03\x03\xff\xff" + bytes(64)
seeds["truncated_sh"] = seeds["tls12_sh"][:30]
seeds["alert_flood"] = rec(21, b"\x01\x5a") * 20
seeds["empty_record"] = rec(22, b"")
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
