"""The Phloem reference server: a reusable Django app serving phloem apps over Channels."""
