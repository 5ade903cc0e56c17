#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_dns_answer. The fuzzer reads its input with
libFuzzer's FuzzedDataProvider (integers from the end, strings and bytes from
the front), so this encodes realistic c-ares answers in exactly the order
fuzz_dns_answer.cpp consumes them: plain A/AAAA answers, CDN CNAME chains (with
the links repeated, as c-ares 1.18.1 reports them for A and AAAA), a CNAME loop,
NXDOMAIN/SERVFAIL without an answer, duplicates, bogus families, null and short
ai_addr, very long and non-ASCII names. Keep it in step with the fuzzer."""
import os, socket, struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_dns_answer")
os.makedirs(out, exist_ok=True)

STATUSES = ["SUCCESS", "SUCCESS", "SUCCESS", "ENODATA", "ENOTFOUND", "ESERVFAIL", "EREFUSED",
            "ETIMEOUT", "EBADNAME", "ECONNREFUSED", "ENOMEM", "ECANCELLED"]
KNOWN = ["x.cdn.cloudflare.net.", "D111.CLOUDFRONT.NET", "a.edgekey.net", "b.azurefd.net",
         "c.b-cdn.net", "d.fastly.net"]


class Enc:
    def __init__(self):
        self.front = bytearray()
        self.end = bytearray()  # in consumption order; reversed at the end

    def byte(self, v):  # ConsumeIntegralInRange with a range < 256
        self.end.append(v)

    def int32(self, v):  # ConsumeIntegral<int>
        self.end += struct.pack(">I", (v + 2**31) % 2**32)

    def u32(self, v):  # ConsumeIntegral<uint32_t> (ConsumeProbability<float>)
        self.end += struct.pack(">I", v)

    def string(self, s):  # ConsumeRandomLengthString
        b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
        self.front += b.replace(b"\\", b"\\\\") + b"\\x"

    def raw(self, b):  # ConsumeBytes
        self.front += b

    def data(self):
        return bytes(self.front) + b"PADDING!" + bytes(reversed(self.end))


def sin(ip):
    return struct.pack("<H", socket.AF_INET) + b"\x01\xbb" + socket.inet_pton(socket.AF_INET, ip) + bytes(8)


def sin6(ip):
    return (struct.pack("<H", socket.AF_INET6) + b"\x01\xbb" + bytes(4) +
            socket.inet_pton(socket.AF_INET6, ip) + bytes(4))


def name(e, how, arg=None):
    """some_name(): how = earlier (index), empty, long (label, n), known (index), text."""
    if how == "earlier":
        e.byte(0)
        e.byte(arg)  # index among the names so far (read only when there are >= 2)
    elif how == "empty":
        e.byte(1)
    elif how == "long":
        e.byte(2)
        e.string(arg[0])
        e.byte(arg[1] - 1)
    elif how == "known":
        e.byte(3)
        e.byte(arg)
    else:
        e.byte(4)
        e.string(arg)


def answer(status=0, timeouts=0, asked=None, cnames=(), nodes=(), null=False):
    """cnames: (ttl, alias_is_last, alias_name_spec or None, target_spec, nulls);
    nodes: (ttl, family_choice, family_int, len_choice, length, null_addr, bytes)."""
    e = Enc()
    if isinstance(status, str):
        e.byte(1)
        e.byte(STATUSES.index(status))
    else:
        e.byte(0)
        e.int32(status)
    e.int32(timeouts)
    if asked is None:
        e.byte(1)
    else:
        e.byte(0)
        e.string(asked)
    e.byte(0 if null else 5)
    if null:
        return e.data()
    e.byte(len(cnames))
    n_names = 1
    for ttl, alias_last, alias_spec, target_spec, nulls in cnames:
        e.int32(ttl)
        if alias_last:
            e.u32(0)
        else:
            e.u32(0xFFFFFFFF)
            if alias_spec[0] == "earlier":
                e.byte(0)
                if n_names > 1:
                    e.byte(alias_spec[1])
            else:
                name(e, *alias_spec)
        if target_spec[0] == "earlier":
            e.byte(0)
            if n_names > 1:
                e.byte(target_spec[1])
        else:
            name(e, *target_spec)
        e.byte(nulls)
        n_names += 1
    e.byte(len(nodes))
    for ttl, family_choice, family_int, len_choice, len_arg, null_addr, blob in nodes:
        e.int32(ttl)
        e.byte(family_choice)
        if family_choice == 5:
            e.int32(family_int)
        e.byte(len_choice)
        natural = 28 if family_choice in (2, 3) else 16
        if len_choice == 0:
            e.byte(len_arg)  # 0 .. natural - 1
        elif len_choice == 1:
            e.byte(len_arg - natural)  # natural .. 128
        e.byte(0 if null_addr else 1)
        if not null_addr:
            e.raw(blob)
            if len(blob) >= 2:
                e.byte(0)  # keep the family bytes as written
    return e.data()


def a(ip, ttl=300):
    return (ttl, 0, 0, 3, 0, False, sin(ip))


def aaaa(ip, ttl=300):
    return (ttl, 2, 0, 3, 0, False, sin6(ip))


def link(target, alias_last=True, alias=None, ttl=300, nulls=5):
    return (ttl, alias_last, alias, target, nulls)


seeds = {}
seeds["plain_a_aaaa"] = answer("SUCCESS", nodes=[a("192.0.2.10"), a("192.0.2.11"),
                                                 aaaa("2001:db8::10")])
seeds["cloudflare_chain"] = answer(
    "SUCCESS", asked="www.shop.example",
    cnames=[link(("text", "shop.example.cdn.cloudflare.net")),
            link(("text", "shop.example.cdn.cloudflare.net"), alias_last=False,
                 alias=("earlier", 0))],
    nodes=[a("104.16.1.1"), a("104.16.2.1"), aaaa("2606:4700::6810:101")])
seeds["cloudfront_chain"] = answer(
    "SUCCESS", asked="Static.Example.",
    cnames=[link(("text", "assets.example.net")), link(("known", 1))],
    nodes=[a("13.32.0.5", ttl=60), aaaa("2600:9000:2000::1", ttl=-5)])
seeds["cname_loop"] = answer(
    "SUCCESS", asked="loop.example",
    cnames=[link(("text", "b.loop.example")), link(("earlier", 0))],
    nodes=[a("192.0.2.1")])
seeds["nxdomain_null"] = answer("ENOTFOUND", asked="missing.example", null=True)
seeds["servfail_empty"] = answer("ESERVFAIL", timeouts=2, asked="broken.example")
seeds["refused_odd_status"] = answer(1234, timeouts=-1, asked="odd.example")
seeds["no_data_cname_only"] = answer(
    "SUCCESS", asked="alias-only.example", cnames=[link(("known", 0))])
seeds["duplicates_v6_first"] = answer(
    "SUCCESS", nodes=[aaaa("2001:db8::1"), a("192.0.2.7"), aaaa("2001:db8::1"),
                      a("192.0.2.7", ttl=5), a("198.51.100.9")])
seeds["bogus_nodes"] = answer(
    "SUCCESS",
    nodes=[(1, 4, 0, 3, 0, False, sin("192.0.2.1")),          # AF_UNSPEC
           (1, 5, 99, 3, 0, False, sin("192.0.2.2")),         # unknown family
           (1, 0, 0, 3, 0, True, b""),                        # null ai_addr
           (1, 2, 0, 0, 8, False, sin6("2001:db8::2")[:8]),   # AAAA, 8-byte sockaddr
           (1, 2, 0, 2, 0, False, sin("192.0.2.3")),          # AAAA in an IPv4-sized buffer
           (1, 0, 0, 1, 40, False, sin("192.0.2.4") + bytes(24)),  # longer than needed
           a("192.0.2.5")])
seeds["long_and_non_ascii"] = answer(
    "SUCCESS", asked="xn--bcher-kva.example",
    cnames=[link(("long", ("a" * 63, 4))),
            link(("text", "b\u00fccher.\u4f8b\u3048.example\x01\x7f")),
            link(("empty",)),
            link(("text", "WWW.EXAMPLE.COM..."), nulls=0),
            link(("text", "tail.example"), nulls=1)],
    nodes=[a("192.0.2.99")])

for n, data in seeds.items():
    with open(os.path.join(out, n), "wb") as f:
        f.write(data)
print(f"wrote {len(seeds)} seeds to {out}")
