"""The Bot API methods by area; each area is built on the server's shared
:class:`~localapi.world.World` and lists its methods in ``table()``."""
