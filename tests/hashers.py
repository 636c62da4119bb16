from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Still Argon2id (the algorithm production uses), with the lowest cost."""

    time_cost = 1
    memory_cost = 256
    parallelism = 1
