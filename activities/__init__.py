"""Side-effect activities (notifications, assignments, CRM records, monitoring) and the durable
store that records what each one did, keyed so that a retry never repeats a side effect."""
