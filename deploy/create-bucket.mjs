// Creates the S3 bucket the sweep workers and the tracker write to, if it does not exist yet (a one-shot step of
// deploy/compose.yaml). Settings from S3_ENDPOINT, S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; retries while
// the S3 server is starting (up to 2 minutes).
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';

const endpoint = process.env.S3_ENDPOINT;
const bucket = process.env.S3_BUCKET ?? 'ocrops';
const client = new S3Client({ endpoint, region: process.env.AWS_REGION ?? 'us-east-1', forcePathStyle: true });
const deadline = Date.now() + 120_000;
for (;;) {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    console.log(`bucket ${bucket} exists at ${endpoint}`);
    break;
  } catch (err) {
    if (err?.$metadata?.httpStatusCode === 404 || err?.name === 'NotFound') {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      console.log(`bucket ${bucket} created at ${endpoint}`);
      break;
    }
    if (Date.now() > deadline) throw err;
    await new Promise((r) => setTimeout(r, 2000));
  }
}
