"""OR-Tools models (truck rounds, room bookings, siting); no file or map code lives here."""
