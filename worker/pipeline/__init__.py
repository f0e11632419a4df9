"""The drafting stages, in the order a message goes through them:

config_resolver → recall → prompt → generate (or offline_drafter) → draft (stores) → publish
"""
