import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { Topic } from '@lib/contracts';
import { lastValueFrom } from 'rxjs';
import type { EntityManager } from 'typeorm';
import {
  type ConsumedEvent,
  IdempotentConsumer,
  type IdempotentConsumerCounters,
  type IdempotentConsumerOptions,
  noConsumerCounters,
} from './idempotent-consumer';

/**
 * What an `@EventPattern(topic)` handler receives: the first-seen events of its topic from one Kafka round,
 * and the transaction that records them as processed. Write with `manager` only, so effects and dedupe
 * commit together; throw to have the whole round retried.
 */
export class EventBatch<T extends Topic> {
  constructor(
    readonly manager: EntityManager,
    readonly events: ConsumedEvent<T>[],
  ) {}

  /** The events' validated payloads, in order. */
  get data(): ConsumedEvent<T>['data'][] {
    return this.events.map((e) => e.data);
  }
}

/** The consumer's settings; its topics are the `@EventPattern`s of the app's controllers. */
export type EventTransportOptions = Omit<IdempotentConsumerOptions<Topic>, 'topics' | 'handler'>;

/**
 * A NestJS microservice transport over the `IdempotentConsumer`: controllers declare what they consume with
 * `@EventPattern(Topic.X)` and `@Payload() batch: EventBatch<typeof Topic.X>`, and the consumer keeps its
 * batching, dedupe, dead letters, retries and trace context. The handlers of one round run one after the
 * other (in the order they were declared) inside its single transaction.
 *
 * Connect it to the app (`bootstrapService`'s `eventTransport`); Nest starts it before the app listens
 * and closes it when the app shuts down, before the database connection goes.
 */
export class EventTransport extends Server implements CustomTransportStrategy {
  private consumer?: IdempotentConsumer<Topic>;

  constructor(private readonly options: EventTransportOptions) {
    super();
  }

  /** The consumer's state and counters (for metrics); all zero before it starts. */
  counters(): IdempotentConsumerCounters {
    return this.consumer?.counters() ?? noConsumerCounters();
  }

  listen(callback: (err?: unknown) => void): void {
    this.consumer = new IdempotentConsumer({
      ...this.options,
      topics: [...this.messageHandlers.keys()] as Topic[],
      handler: (manager, events) => this.dispatch(manager, events),
    });
    this.consumer.start().then(() => callback(), callback);
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
  }

  /** No transport events to subscribe to: state is in `counters()`. */
  on(): void {}

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('EventTransport: not listening yet');
    return this.consumer as T;
  }

  private async dispatch(manager: EntityManager, events: ConsumedEvent<Topic>[]): Promise<void> {
    for (const [topic, handler] of this.messageHandlers) {
      const mine = events.filter((e) => e.topic === topic);
      if (mine.length === 0) continue;
      // Nest's RPC layer turns a thrown error into an erroring observable (its filter logs the cause):
      // awaiting it rethrows, so the round is retried.
      await lastValueFrom(
        this.transformToObservable(await handler(new EventBatch(manager, mine))),
        {
          defaultValue: undefined,
        },
      );
    }
  }
}
