// placeholder until the profiles stage lands
