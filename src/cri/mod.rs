//! CRI v1 message types and the typed RuntimeService/ImageService client (to be written: see issue 2).
