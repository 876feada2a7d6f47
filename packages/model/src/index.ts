// Public surface of @ocrops/model.
export {};
