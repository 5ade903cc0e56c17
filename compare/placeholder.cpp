// placeholder until the compare stage lands
