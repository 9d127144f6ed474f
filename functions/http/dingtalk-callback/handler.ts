// Placeholder wiring; replaced by the real handler in this same change set.
export const handler = async (): Promise<{ statusCode: number; body: string }> => ({ statusCode: 501, body: '{"error":"NOT_CONFIGURED"}' });
