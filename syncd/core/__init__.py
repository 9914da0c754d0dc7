"""The pure core of a record flow: normalize, match and resolve, with no I/O of any kind.

Everything these modules need (records, links, bases, clocks' readings) arrives as arguments, and
everything they decide leaves as frozen dataclasses for the engine to act on.
"""
