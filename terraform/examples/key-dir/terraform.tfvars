# The key directory (0700): every private key the modules generate is a file there (README: Secrets).
key_dir = "keys"
