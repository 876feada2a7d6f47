// Public surface of @ocrops/tracker.
export {};
