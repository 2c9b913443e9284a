"""The SNMP trap receiver of the agent (`devices_traps`): `receiver.start_receiver`."""
