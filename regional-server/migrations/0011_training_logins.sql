-- Training logins (培训登录): window staff practise on training records only, never on a
-- citizen's ticket, call or request.
ALTER TABLE sessions ADD COLUMN training INTEGER NOT NULL DEFAULT 0;
