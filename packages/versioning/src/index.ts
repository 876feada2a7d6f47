// Public surface of @ocrops/versioning.
export {};
