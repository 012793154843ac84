-- The calendar file a booking's resident holds. Confirming a booking sends an iCalendar file;
-- moving it sends the event again and cancelling it sends a cancellation, each with the same UID
-- and a higher SEQUENCE (RFC 5545), so a calendar app updates or removes the event instead of
-- adding a second one. `calendar_sequence` is the SEQUENCE of the last file sent; NULL: none was
-- sent (a booking never confirmed), so there is nothing in the resident's calendar to change.
ALTER TABLE bookings ADD COLUMN calendar_sequence INTEGER;
-- Confirmed before this migration: the file they got had no SEQUENCE, which means 0.
UPDATE bookings SET calendar_sequence = 0 WHERE status IN ('confirmed', 'attended', 'no_show');
