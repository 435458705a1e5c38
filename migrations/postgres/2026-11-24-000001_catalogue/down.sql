DROP TABLE service_documents;
DROP TABLE service_categories;
DROP TABLE departments;
DROP TABLE municipalities;
