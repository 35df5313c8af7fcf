DROP TABLE mail_attachments;
