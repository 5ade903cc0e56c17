// placeholder until the resolve stage lands
