DROP TABLE photo_code_attempts;
DROP TABLE photo_link_counts;
DROP TABLE photo_files;
DROP TABLE photo_submissions;
DROP TABLE studios;
