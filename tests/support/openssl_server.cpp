// placeholder: written by the fixture's owner
