"""Local images: names, records and the layers they are made of (blobs live in `content`)."""
