"""Travel times: one interface ``matrix(origins, destinations) -> minutes``; road networks or the stated estimate."""
