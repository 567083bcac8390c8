// The restore action's entry: the same committed bundle as the backup action, told to restore.
process.env.BITBUCKET_BACKUP_ENTRY = 'restore-action'
await import('../dist/index.js')
