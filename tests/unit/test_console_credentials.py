from worker.console import credentials


def test_a_secret_verifies_only_against_its_own_hash():
    stored = credentials.hash_secret("correct horse")
    assert credentials.verify_secret("correct horse", stored)
    assert not credentials.verify_secret("correct hors", stored)
    assert not credentials.verify_secret("correct horse", credentials.hash_secret("other"))
    assert not credentials.verify_secret("correct horse", None)  # unknown reviewer
    assert not credentials.verify_secret("x", "garbage")
    assert "correct horse" not in stored
