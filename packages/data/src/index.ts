// Public surface of @ocrops/data.
export {};
