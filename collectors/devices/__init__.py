"""Machine-room gear over SNMP and SSH. Heavy libraries are imported only when used."""
