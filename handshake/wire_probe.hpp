// Private to handshake/: the wire probe (Engine::wire), the judge of whether the
// origin accepts the edge's ClientHello and what it picks. probe.cpp's scheduler
// runs it within the same connection budget as the OpenSSL probes.
#pragma once

#include "handshake/detail.hpp"

#include <asio/awaitable.hpp>

namespace edgeshake::handshake::detail {

asio::awaitable<ProbeResult> probe_wire(ProbeSpec spec, ContextCache& cache);

// The hello a wire probe sends: the profile's alternative `spec.hello` with the
// spec's WireOverrides applied (exposed for tests).
profiles::WireHello wire_hello_for(const ProbeSpec& spec);

} // namespace edgeshake::handshake::detail
