DROP TABLE IF EXISTS command_tracking;
DELETE FROM sys_table_definitions WHERE table_name = 'command_tracking';
