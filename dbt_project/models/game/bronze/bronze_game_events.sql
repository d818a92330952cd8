-- One row per event_id, typed: duplicates removed (last-loaded delivery wins), the epoch
-- seconds as a UTC timestamp with its hour and day, event_data's fields as columns. Events of
-- an unknown type are KEPT and flagged (is_known_event_type = false): silver keeps them too,
-- so late and redelivered rows scope the same hours as in raw, and gold counts only known ones.
-- The SQL is macros/game/events.sql: silver_game_events' incremental path runs the same
-- cleaning and dedupe on the event_ids of the hours a run recomputes only.
{{ bronze_game_events_sql() }}
