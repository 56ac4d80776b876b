"""Jobs: a validated scenario in, a typed result out (coverage, siting, rounds, rooms, plan, national); no files."""
