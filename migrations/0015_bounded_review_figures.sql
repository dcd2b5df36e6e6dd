-- Review figures uploaded before they were bounded: lapses and reps near 2^63 made the
-- sums overflow, and every statistics page of the deck failed from then on. Stored
-- figures are clamped the way uploads are now (src/domain/stats.rs: retention 0-100,
-- reps at most 1,000,000, lapses at most reps), and the per-note sums, which the update
-- triggers cannot repair from overflowed values, are added up again.
UPDATE note_stats SET
    retention = min(max(retention, 0), 100),
    reps = min(max(reps, 0), 1000000),
    lapses = min(max(lapses, 0), min(max(reps, 0), 1000000))
WHERE retention NOT BETWEEN 0 AND 100
   OR reps NOT BETWEEN 0 AND 1000000
   OR lapses NOT BETWEEN 0 AND reps;

DELETE FROM note_stat_totals;
INSERT INTO note_stat_totals (note, root, reporters, retention, lapses, reps)
SELECT st.note, n.root, COUNT(*), SUM(st.retention), SUM(st.lapses), SUM(st.reps)
FROM note_stats st JOIN notes n ON n.id = st.note GROUP BY st.note;
