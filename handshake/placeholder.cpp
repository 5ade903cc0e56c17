// placeholder until the handshake stage lands
