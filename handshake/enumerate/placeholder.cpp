// placeholder until the enumerate engine lands
